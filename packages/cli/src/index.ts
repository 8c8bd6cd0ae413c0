export { main } from './main.js';
export { buildProgram } from './program.js';
export type { ActivateResult } from './commands/activate.js';
