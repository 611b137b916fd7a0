/** `require('shapefold/dsl')`: see require-esm.cts. */
import requireEsm = require('./require-esm.cjs');

module.exports = requireEsm(() => require('../../dsl/index.js'), 'shapefold/dsl');
