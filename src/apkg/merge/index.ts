export { mergeCollections } from './merge.js';
export type { Conflict, ConflictReason, MergeOptions, MergeReport, ObjectKind, Side, SideReport } from './types.js';
