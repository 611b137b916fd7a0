/** `require('shapefold/io')`: see require-esm.cts. */
import requireEsm = require('./require-esm.cjs');

module.exports = requireEsm(() => require('../io/index.js'), 'shapefold/io');
