export { prepareMask } from './prepareMask';
export { MaskLibraryUnavailable } from './loadSharp';
export type { MaskOptions, MaskSpec, PreparedMask, Rectangle, Size } from './types';
