// UI strings, one table per language. t('key', {n: 1}) fills {n}.
// The language: config `lang` (ru | en), or with `auto` the browser's
// preferred languages; Russian when nothing matches. The operator may switch
// it in the header (kept in localStorage).
const STRINGS = {
  ru: {
    appName: 'Рабочее место оператора',
    login: 'Логин', password: 'Пароль', signIn: 'Войти', signingIn: 'Вход…',
    loginFailed: 'Неверный логин или пароль', logout: 'Выйти',
    online: 'В сети', away: 'Отошёл', offline: 'Не в сети',
    workspace: 'Диалоги', supervisor: 'Супервизор', admin: 'Администрирование',
    all: 'Все', mine: 'Мои', queue: 'Очередь', noConversations: 'Нет диалогов',
    selectConversation: 'Выберите диалог слева',
    queued: 'в очереди', assigned: 'назначен', bot: 'бот', closed: 'закрыт',
    queuePos: '№{n} в очереди', waiting: 'ждёт {t}', newConv: 'Новый диалог',
    take: 'Взять', transfer: 'Передать', close: 'Закрыть',
    callbackDone: 'Дозвонились', callbackNoAnswer: 'Не дозвонились',
    composer: 'Сообщение… (Enter — отправить, Shift+Enter — новая строка)', send: 'Отправить',
    templates: 'Шаблоны', searchTemplates: 'Поиск шаблона…', noTemplates: 'Шаблонов нет',
    typing: 'Клиент печатает: {text}', loadEarlier: 'Показать раньше',
    client: 'Клиент', operator: 'Оператор', botAuthor: 'Бот', system: 'Система',
    profile: 'Профиль клиента', name: 'Имя', phone: 'Телефон', email: 'E-mail',
    channels: 'Каналы', attributes: 'Атрибуты', key: 'Ключ', value: 'Значение',
    add: 'Добавить', save: 'Сохранить', cancel: 'Отмена', edit: 'Изменить',
    delete: 'Удалить', copy: 'Копировать', copied: 'Скопировано',
    clientTags: 'Теги клиента', convTags: 'Теги диалога', addTag: 'Новый тег…',
    transferTo: 'Передать диалог', toOperator: 'Оператору', toGroup: 'В группу', note: 'Комментарий',
    noOperators: 'Нет операторов на связи', confirmClose: 'Закрыть диалог?',
    delivery_pending: 'отправляется', delivery_sent: 'доставлено', delivery_failed: 'не доставлено',
    attachment: 'Вложение', reconnecting: 'Нет связи с сервером, переподключение…',
    error: 'Ошибка: {msg}', assignedTo: 'у {name}',
    queues: 'Очереди', group: 'Группа', waitingCount: 'Ждут', longestWait: 'Дольше всех',
    onlineOps: 'Операторов в сети', operators: 'Операторы', status: 'Статус', load: 'Нагрузка',
    groups: 'Группы', queuedConvs: 'Диалоги в очереди', assign: 'Назначить', chooseOperator: 'Оператор…',
    plugins: 'Плагины', plugin: 'Плагин', instance: 'Экземпляр', kind: 'Тип', version: 'Версия',
    state: 'Состояние', lastError: 'Последняя ошибка', refresh: 'Обновить',
    role: 'Роль', maxConversations: 'Макс. диалогов', strategy: 'Стратегия',
    maxPerOperator: 'Макс. на оператора', id: 'Id', title: 'Название', text: 'Текст',
    hotkey: 'Горячая клавиша', hotkeyHelp: 'Сочетание (alt+1, ctrl+shift+h) или команда (/hi + Tab или Enter)',
    created: 'Создано', confirmDelete: 'Удалить «{name}»?', since: 'с {t}',
    language: 'Язык',
  },
  en: {
    appName: 'Operator workspace',
    login: 'Login', password: 'Password', signIn: 'Sign in', signingIn: 'Signing in…',
    loginFailed: 'Wrong login or password', logout: 'Sign out',
    online: 'Online', away: 'Away', offline: 'Offline',
    workspace: 'Conversations', supervisor: 'Supervisor', admin: 'Administration',
    all: 'All', mine: 'Mine', queue: 'Queue', noConversations: 'No conversations',
    selectConversation: 'Pick a conversation on the left',
    queued: 'queued', assigned: 'assigned', bot: 'bot', closed: 'closed',
    queuePos: '#{n} in queue', waiting: 'waiting {t}', newConv: 'New conversation',
    take: 'Take', transfer: 'Transfer', close: 'Close',
    callbackDone: 'Done', callbackNoAnswer: 'No answer',
    composer: 'Message… (Enter sends, Shift+Enter new line)', send: 'Send',
    templates: 'Templates', searchTemplates: 'Search templates…', noTemplates: 'No templates',
    typing: 'The client is typing: {text}', loadEarlier: 'Show earlier',
    client: 'Client', operator: 'Operator', botAuthor: 'Bot', system: 'System',
    profile: 'Client profile', name: 'Name', phone: 'Phone', email: 'E-mail',
    channels: 'Channels', attributes: 'Attributes', key: 'Key', value: 'Value',
    add: 'Add', save: 'Save', cancel: 'Cancel', edit: 'Edit',
    delete: 'Delete', copy: 'Copy', copied: 'Copied',
    clientTags: 'Client tags', convTags: 'Conversation tags', addTag: 'New tag…',
    transferTo: 'Transfer the conversation', toOperator: 'To an operator', toGroup: 'To a group', note: 'Note',
    noOperators: 'No operator online', confirmClose: 'Close the conversation?',
    delivery_pending: 'sending', delivery_sent: 'delivered', delivery_failed: 'not delivered',
    attachment: 'Attachment', reconnecting: 'No connection to the server, reconnecting…',
    error: 'Error: {msg}', assignedTo: 'with {name}',
    queues: 'Queues', group: 'Group', waitingCount: 'Waiting', longestWait: 'Longest wait',
    onlineOps: 'Operators online', operators: 'Operators', status: 'Status', load: 'Load',
    groups: 'Groups', queuedConvs: 'Queued conversations', assign: 'Assign', chooseOperator: 'Operator…',
    plugins: 'Plugins', plugin: 'Plugin', instance: 'Instance', kind: 'Kind', version: 'Version',
    state: 'State', lastError: 'Last error', refresh: 'Refresh',
    role: 'Role', maxConversations: 'Max conversations', strategy: 'Strategy',
    maxPerOperator: 'Max per operator', id: 'Id', title: 'Title', text: 'Text',
    hotkey: 'Hotkey', hotkeyHelp: 'A key combination (alt+1, ctrl+shift+h) or a command (/hi then Tab or Enter)',
    created: 'Created', confirmDelete: 'Delete “{name}”?', since: 'since {t}',
    language: 'Language',
  },
};

export const LANGS = Object.keys(STRINGS);
let current = 'ru';

/** Picks the language from the config value and the browser's languages. */
export function chooseLang(configured, browserLangs, saved) {
  if (saved && STRINGS[saved]) return saved;
  if (configured && configured !== 'auto' && STRINGS[configured]) return configured;
  if (configured === 'auto') {
    for (const l of browserLangs || []) {
      const base = String(l).toLowerCase().split('-')[0];
      if (STRINGS[base]) return base;
    }
  }
  return 'ru';
}

export function setLang(lang) {
  current = STRINGS[lang] ? lang : 'ru';
  document.documentElement.lang = current;
}

export function lang() { return current; }

export function t(key, args) {
  const s = STRINGS[current][key] ?? STRINGS.ru[key] ?? key;
  if (!args) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in args ? String(args[k]) : m));
}
