export * from './capture/types.js';
export * from './bluetooth/types.js';
