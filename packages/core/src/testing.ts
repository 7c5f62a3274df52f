// @keyward/core/testing — for test suites: the `KeyStore` contract every store must pass (a
// third-party store proves itself with one import), and helpers to build keys by hand.
export { formatKey, randomBase62 } from './key-format.ts'
export { describeStoreContract, makeRecord, type StoreHarness } from './testing/store-contract.ts'
