export { prepareMask } from './prepareMask';
export { MaskLibraryUnavailable } from './loadSharp';
export { LABELS as MASK_PARAMETER_LABELS } from './labels';
export type { MaskOptions, MaskSpec, PreparedMask, Rectangle, Size } from './types';
