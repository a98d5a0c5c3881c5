/* Test fixture: a shared object that is not a Switchboard plugin. */
int no_entry_answer(void);
int no_entry_answer(void) { return 42; }
