export * from './ankibridge-error.js';
export * from './define.js';
export * from './catalogue.js';
export { GeneralErrors } from './codes/general.js';
