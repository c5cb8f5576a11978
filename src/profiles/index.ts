/** Device profiles: loading, validation, choice, and register value decoding. */
export * from './types.js';
export { loadProfiles, loadProfileFile, resolveProfile, chooseProfile, validateProfile, ProfileError, SHIPPED_DIR } from './load.js';
export { decodeRegisterValue, roundTo, readRegisterFields, registerSize, scaleDecimals, scalarFieldValue, fieldValue, fieldString, isFlag, isReservedField, isPlainScalar, plainScalarRaw, scalarPlan, planRaw, planValue, type ScalarPlan, printableUtf8, type FieldRaw, type RegisterFields } from './decode.js';
export { productName, productIdHex, formatProductId, allProducts } from './products.js';
export { ProfileSuggester, guessField, type SuggestedRegister } from './suggest.js';
