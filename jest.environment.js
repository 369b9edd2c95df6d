// @ts-check
'use strict';
const { TestEnvironment } = require('jest-environment-node');

/**
 * jest's node environment, with one cross-realm fix. Each test file runs in a vm context of its
 * own, whose intrinsics (Object, Array, JSON, ...) are not Node's. Node's fetch parses JSON
 * bodies in Node's realm, so `await response.json()` gives objects whose prototypes are not the
 * test's, and node:assert's deepStrictEqual tells them apart ("Values have same structure but are
 * not reference-equal"; jestjs/jest#2549, nodejs/node#44462). Under node:test there was one
 * realm. Here a Response's json() parses the text with the test realm's JSON, so the typed
 * client's (openapi-fetch) and the tests' own fetch answers compare as before.
 */
class NovaTestEnvironment extends TestEnvironment {
  /** @param {ConstructorParameters<typeof TestEnvironment>} args */
  constructor(...args) {
    super(...args);
    const realm = this.global;
    const nodeFetch = /** @type {typeof fetch} */ (realm.fetch);
    const testJSON = /** @type {typeof JSON} */ (realm.JSON);
    /** @type {typeof fetch} */
    const fetchInTestRealm = async (input, init) => {
      const response = await nodeFetch(input, init);
      Object.defineProperty(response, 'json', {
        value: async () => testJSON.parse(await response.text()),
        configurable: true,
      });
      return response;
    };
    realm.fetch = fetchInTestRealm;
  }
}

module.exports = NovaTestEnvironment;
