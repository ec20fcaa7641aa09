/** The package's public surface: `import { Dossier } from 'dossierdb'`. */
export { Dossier, type DossierOptions } from './embed/index.js';
export { DossierError } from './base/index.js';
