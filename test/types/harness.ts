/**
 * Type tests: compile a TypeScript snippet against the real repository and read its errors or the
 * resolved text of a type alias.
 *
 * One ts-morph Project serves the whole process, with the repository's tsconfig options and the
 * real file system, so a snippet may `import ... from '../../dsl/index.ts'`. Snippets are virtual
 * files beside this one, test/types/__case_<pid>_<n>.ts (never written to disk), hence the
 * `../../` to the repository root; each gets a fresh name and is removed
 * after the check, so the language service only re-checks what changed (the first check pays for
 * loading lib and node types, later ones take tens of milliseconds).
 */
import { fileURLToPath } from 'node:url';
import { Project, ts, type SourceFile } from 'ts-morph';

export interface TypeCaseResult {
  /** `line` is 1-based within the snippet; `message` is the flattened diagnostic chain; `text` the source it underlines. */
  errors: { line: number; message: string; text: string }[];
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const snippetDir = fileURLToPath(new URL('./', import.meta.url));

let sharedProject: Project | undefined;
let caseCounter = 0;

function project(): Project {
  sharedProject ??= new Project({
    tsConfigFilePath: `${repoRoot}tsconfig.json`,
    skipAddingFilesFromTsConfig: true,
  });
  return sharedProject;
}

function withSnippet<T>(code: string, use: (file: SourceFile) => T): T {
  const file = project().createSourceFile(`${snippetDir}__case_${process.pid}_${caseCounter++}.ts`, code);
  try {
    return use(file);
  } finally {
    project().removeSourceFile(file);
  }
}

function diagnosticsOf(file: SourceFile): TypeCaseResult {
  const program = project().getProgram().compilerObject;
  const sf = file.compilerNode;
  const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  const errors = diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .sort((x, y) => (x.start ?? 0) - (y.start ?? 0))
    .map((d) => ({
      line: d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      text: d.start === undefined || d.length === undefined ? '' : sf.text.slice(d.start, d.start + d.length),
    }));
  return { errors };
}

/**
 * The words of a shape failure in a diagnostic: the string literal type a layer's argument or its
 * config property was not assignable to (`... is not assignable to type '"<words>"'.`).
 */
export function typeLevelWords(message: string): string | undefined {
  return /type '"(.*)"'\.$/.exec(message)?.[1];
}

export function checkSnippet(code: string): TypeCaseResult {
  return withSnippet(code, diagnosticsOf);
}

function dump(code: string, result: TypeCaseResult): string {
  const numbered = code
    .split('\n')
    .map((text, i) => `${String(i + 1).padStart(3)} | ${text}`)
    .join('\n');
  const errors = result.errors.length === 0 ? '  (none)' : result.errors.map((e) => `  line ${e.line}: ${e.message}`).join('\n');
  return `snippet:\n${numbered}\nerrors:\n${errors}`;
}

/** Throws, listing the diagnostics, if the snippet has any type error. */
export function expectCompiles(code: string): void {
  const result = checkSnippet(code);
  if (result.errors.length > 0) throw new Error(`expected the snippet to compile\n${dump(code, result)}`);
}

/** At least one error; the first must be on `line` (when given) and contain `contains`. */
export function expectError(code: string, opts: { line?: number; contains: string }): void {
  const result = checkSnippet(code);
  const first = result.errors[0];
  if (first === undefined) throw new Error(`expected a type error containing '${opts.contains}'\n${dump(code, result)}`);
  if (opts.line !== undefined && first.line !== opts.line) {
    throw new Error(`expected the first type error on line ${opts.line}, got line ${first.line}\n${dump(code, result)}`);
  }
  if (!first.message.includes(opts.contains)) {
    throw new Error(`expected the first type error to contain '${opts.contains}'\n${dump(code, result)}`);
  }
}

function aliasText(file: SourceFile, typeName: string): string {
  const alias = file.getTypeAliasOrThrow(typeName);
  const checker = project().getTypeChecker().compilerObject;
  const type = checker.getTypeAtLocation(alias.getNameNode().compilerNode);
  return checker.typeToString(type, alias.compilerNode, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias);
}

function checkedTexts(code: string, typeNames: readonly string[]): string[] {
  return withSnippet(code, (file) => {
    const result = diagnosticsOf(file);
    if (result.errors.length > 0) throw new Error(`typeText: the snippet does not compile\n${dump(code, result)}`);
    return typeNames.map((name) => aliasText(file, name));
  });
}

/**
 * The fully resolved text of `type <typeName> = ...` in the snippet, e.g. '5' or '"floor((H+3)/4)"'.
 * Throws if the snippet has a type error, since an erroneous alias silently resolves to `any`.
 */
export function typeText(code: string, typeName: string): string {
  return checkedTexts(code, [typeName])[0];
}

/** `typeText` for several aliases of one snippet, compiled once (for batches of cases). */
export function typeTexts(code: string, typeNames: readonly string[]): string[] {
  return checkedTexts(code, typeNames);
}
