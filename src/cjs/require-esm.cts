/**
 * shapefold is an ES module. Node 20.19+ and 22.12+ can `require()` an ES module, so the package's
 * `require` entry points load the ESM build through require; on an older Node, where that fails,
 * the error is one line saying so instead of Node's stack trace about file extensions.
 */
function requireEsm(load: () => unknown, entry: string): unknown {
  try {
    return load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    const esmOnly = new Error(`${entry} is ESM-only: use import ... from '${entry}' (or await import('${entry}')), or Node >= 20.19 which can require() it`);
    esmOnly.stack = `Error: ${esmOnly.message}`;
    throw esmOnly;
  }
}

export = requireEsm;
