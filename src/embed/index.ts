export { Dossier, type DossierOptions, DEFAULT_REPL_SET_NAME, DEFAULT_BIND_IP, MEMORY_DB_PATH } from './dossier.js';
