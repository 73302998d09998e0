export { openPackage } from './open-package.js';
export { writeColpkg, type WriteColpkgArgs, type WriteColpkgResult } from './write-colpkg.js';
export { summarizeOpenedPackage, type PackageSummary } from './package-summary.js';
export { DEFAULT_LIMITS } from './limits.js';
export { isNormalizedMediaName, mediaNameProblem } from './media-name.js';
export type { ExtractedMedia, ExtractMediaOptions, MediaEntryInfo, OpenedPackage, OpenPackageOptions, PackageFormat, PackageLimits, Progress } from './types.js';
