// The system documentation (21 CFR 11.10(k)): README.md is the front page and links every page of
// docs/; every relative link and image in README.md and docs/ resolves to a file or folder of the
// repository, and every #anchor to a heading of its page (GitHub's slugs); every `npm run` script a
// document names exists; every benchmark figure is documented; and no document names a path of one
// machine. The checkers are run on a broken example first, so that they cannot pass by finding nothing.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readmeBytesLimit = 8000;

/** README.md and every Markdown file under docs/, as paths relative to the repository. */
function documentedFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

/** The text with every fenced code block's lines blanked (line numbers kept). */
function withoutFencedCode(markdown: string): string {
  let fence: string | null = null;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === null) {
        if (marker) {
          fence = marker;
          return '';
        }
        return line;
      }
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
        fence = null;
      }
      return '';
    })
    .join('\n');
}

/** The text with inline code spans blanked (same length, so indexes and line numbers are kept). */
function withoutInlineCode(text: string): string {
  return text.replace(/(`+)[^`\n](?:[^\n]*?[^`\n])?\1(?!`)/g, (span) => span.replace(/./g, ' '));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), spaces to `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings, repeated headings numbered as GitHub numbers them. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFencedCode(markdown).split('\n')) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = githubSlug(text);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface MarkdownLink {
  target: string;
  line: number;
}

/** Inline links and images `[text](target)`, `![alt](target)`, and reference definitions `[id]: target`. */
function markdownLinks(markdown: string): MarkdownLink[] {
  const text = withoutInlineCode(withoutFencedCode(markdown));
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const links: MarkdownLink[] = [];
  const inline = /\]\(\s*(<[^>\n]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  const reference = /^\s{0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)/gm;
  for (const pattern of [inline, reference]) {
    for (const match of text.matchAll(pattern)) {
      const target = (match[1] as string).replace(/^<|>$/g, '');
      links.push({ target, line: lineOf(match.index ?? 0) });
    }
  }
  return links.sort((a, b) => a.line - b.line);
}

/** How the link checker sees a repository: relative paths, '/'-separated. */
interface Repository {
  exists(path: string): boolean;
  /** A Markdown file's text, or null when it is not one. */
  markdown(path: string): string | null;
}

const onDisk: Repository = {
  exists: (path) => existsSync(join(root, path)),
  markdown: (path) =>
    path.endsWith('.md') && existsSync(join(root, path)) && statSync(join(root, path)).isFile()
      ? readFileSync(join(root, path), 'utf8')
      : null,
};

/** Every relative link or image of `file` that does not resolve, one line each. */
function brokenLinks(file: string, markdown: string, repository: Repository): string[] {
  const problems: string[] = [];
  for (const { target, line } of markdownLinks(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http(s):, mailto: and other schemes
    const where = `${file}:${line}: ${target}`;
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
    const base = pathPart.startsWith('/') ? '' : dirname(file);
    const resolved =
      pathPart === '' ? file : relative(root, resolve(root, base, pathPart.replace(/^\//, '')));
    const path = resolved.split(sep).join('/');
    if (path === '' || path.startsWith('../') || path === '..') {
      problems.push(`${where} leads outside the repository`);
      continue;
    }
    if (!repository.exists(path)) {
      problems.push(`${where} names ${path}, which does not exist`);
      continue;
    }
    if (anchor === null) continue;
    const page = path === file ? markdown : repository.markdown(path);
    if (page === null) {
      problems.push(`${where} has an anchor, but ${path} is not a Markdown page`);
    } else if (!headingAnchors(page).has(anchor)) {
      problems.push(`${where}: no heading of ${path} has the anchor #${anchor}`);
    }
  }
  return problems;
}

/** The npm scripts a document names: `npm run NAME` (`npm run bench -- X` names bench), `npm start`, `npm test`. */
function namedScripts(markdown: string): string[] {
  const names = new Set<string>();
  for (const match of markdown.matchAll(/\bnpm run ([A-Za-z0-9:._-]+)/g)) names.add(match[1] as string);
  for (const match of markdown.matchAll(/\bnpm (start|test)\b/g)) names.add(match[1] as string);
  return [...names].sort();
}

/** Paths of one machine outside fenced code blocks (where a path is a user-chosen example). */
const machinePaths = ['/work/', '/home/', '/tmp/', 'C:\\'];
function machinePathsIn(file: string, markdown: string): string[] {
  return withoutFencedCode(markdown)
    .split('\n')
    .flatMap((line, index) =>
      machinePaths.filter((path) => line.includes(path)).map((path) => `${file}:${index + 1}: ${path}`),
    );
}

/** Files and folders of the repository named in inline code (`src/main/sync/`), which must exist:
 * a file moved without its documentation is found. Globs and placeholders (`*`, `<commit>`) are examples. */
const repositoryFolders = ['src', 'test', 'bench', 'scripts', 'supabase', 'docs', '.ci'];
function namedRepositoryPaths(markdown: string): string[] {
  const text = withoutFencedCode(markdown);
  const paths = new Set<string>();
  for (const span of text.matchAll(/`([^`\n]+)`/g)) {
    const path = (span[1] as string).trim();
    if (!/^[\w.-]+(\/[\w.-]+)*\/?$/.test(path) || !path.includes('/')) continue;
    if (repositoryFolders.includes(path.split('/')[0] as string)) paths.add(path.replace(/\/$/, ''));
  }
  return [...paths].sort();
}

const files = documentedFiles();
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const scripts = Object.keys(
  (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
);

describe('system documentation: one front page, pages that link true, scripts that exist [DOC-SYSTEM-DOCUMENTATION]', () => {
  it('the checkers find what is broken in an example (so they cannot pass by finding nothing)', () => {
    const example: Record<string, string> = {
      'README.md': [
        '# Example',
        'See [the page](docs/page.md), [its part](docs/page.md#a-part-two), [here](#example),',
        '[a folder](docs/) and ![a picture](docs/screenshots/missing.png).',
        'Broken: [no such page](docs/missing.md), [no such part](docs/page.md#nowhere),',
        '[no heading here](#nothing), [outside](../elsewhere.md), [not a page](docs/data.txt#top).',
        'Not links: [web](https://example.org/x.md), [mail](mailto:qa@example.org), `[code](gone.md)`.',
        '```md',
        '[in a fence](also-gone.md)',
        '```',
        'Run `npm run evidence`, `npm run nope -- x` and `npm test`; a path /home/someone/x outside a fence.',
        '```sh',
        'cd /tmp/example',
        '```',
      ].join('\n'),
      'docs/page.md': '# Page\n\n## A part: two\n',
      'docs/data.txt': 'data',
    };
    const repository: Repository = {
      exists: (path) => path === 'docs' || path in example,
      markdown: (path) => (path.endsWith('.md') ? (example[path] ?? null) : null),
    };
    const readme = example['README.md'] as string;
    expect(brokenLinks('README.md', readme, repository)).toEqual([
      'README.md:3: docs/screenshots/missing.png names docs/screenshots/missing.png, which does not exist',
      'README.md:4: docs/missing.md names docs/missing.md, which does not exist',
      'README.md:4: docs/page.md#nowhere: no heading of docs/page.md has the anchor #nowhere',
      'README.md:5: #nothing: no heading of README.md has the anchor #nothing',
      'README.md:5: ../elsewhere.md leads outside the repository',
      'README.md:5: docs/data.txt#top has an anchor, but docs/data.txt is not a Markdown page',
    ]);
    expect(namedScripts(readme)).toEqual(['evidence', 'nope', 'test']);
    expect(
      namedRepositoryPaths('`src/main/sync/` and `docs/page.md`, `evidence/<commit>/`, `src/*.ts`, `a/b`'),
    ).toEqual(['docs/page.md', 'src/main/sync']);
    expect(machinePathsIn('README.md', readme)).toEqual(['README.md:10: /home/']);
    expect(githubSlug('7. `COUNTERSIGN_PG_SSL=require` means verify-full')).toBe(
      '7-countersign_pg_sslrequire-means-verify-full',
    );
    expect(githubSlug('TLS for postgres mode — `SEC-TLS`')).toBe('tls-for-postgres-mode--sec-tls');
  });

  it('every relative link and image in README.md and docs/ resolves, anchors included', () => {
    expect(files).toContain('docs/decisions.md');
    const links = files.flatMap((file) => markdownLinks(read(file)));
    expect(links.length).toBeGreaterThan(50);
    expect(files.flatMap((file) => brokenLinks(file, read(file), onDisk))).toEqual([]);
  });

  it('every file or folder of the repository a document names in code exists', () => {
    const named = files.flatMap((file) => namedRepositoryPaths(read(file)).map((path) => ({ file, path })));
    expect(named.length).toBeGreaterThan(50);
    expect(
      named.filter(({ path }) => !existsSync(join(root, path))).map(({ file, path }) => `${file}: ${path}`),
    ).toEqual([]);
  });

  it('every npm script a document names exists in package.json', () => {
    const named = new Set(files.flatMap((file) => namedScripts(read(file))));
    expect([...named]).toEqual(expect.arrayContaining(['start', 'test', 'bench', 'evidence']));
    expect([...named].filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it('README.md is a front page under 8,000 bytes that links every page of docs/', () => {
    const readme = read('README.md');
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThan(readmeBytesLimit);
    const linked = new Set(
      markdownLinks(readme).map(({ target }) => target.replace(/#.*$/, '').replace(/^\.\//, '')),
    );
    const pages = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'));
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(pages.map((name) => `docs/${name}`).filter((page) => !linked.has(page))).toEqual([]);
  });

  it('names no path of one machine outside a code example', () => {
    const checked = files.filter((file) => file === 'README.md' || /^docs\/[^/]+\.md$/.test(file));
    expect(checked.flatMap((file) => machinePathsIn(file, read(file)))).toEqual([]);
  });

  it('documents every figure the benchmarks print', () => {
    const benchmarks = read('docs/benchmarks.md');
    const figures = readdirSync(join(root, 'bench'))
      .filter((name) => name.endsWith('.bench.ts'))
      .flatMap((name) => {
        const list = /figures:\s*\[([^\]]*)\]/.exec(read(`bench/${name}`))?.[1] ?? '';
        return [...list.matchAll(/'([^']+)'/g)].map((match) => match[1] as string);
      });
    expect(figures.length).toBeGreaterThanOrEqual(11);
    expect(figures.filter((figure) => !benchmarks.includes(`| \`${figure}\` |`))).toEqual([]);
  });
});
