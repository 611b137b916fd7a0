/** `require('shapefold')`: see require-esm.cts. */
import requireEsm = require('./require-esm.cjs');

module.exports = requireEsm(() => require('../index.js'), 'shapefold');
