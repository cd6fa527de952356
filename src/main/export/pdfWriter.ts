// The human-readable copy: a PDF written by hand (PDF 1.4, A4, the standard Courier fonts, one
// uncompressed content stream per page), laid out from the packet content alone, so that the same
// content always gives the same bytes and verifyPacket can render it again and compare page by page.
// A PDF cannot carry its own hash: every page carries the *document hash* (SHA-256 of packet.json,
// the canonical content it renders), "Page i of n", and a digest of its own text, so a swapped,
// removed or edited page is found and named. Text outside Latin-1 is shown as <U+XXXX> (the
// standard fonts have no other glyphs); packet.json holds the exact values.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonicalJson';
import { BuildNames } from './buildNames';
import { buildName } from './packetBuilds';
import type { PacketContent, PacketDiaryRecord, PacketStagingRecord } from './packetContent';

export interface PdfLine {
  text: string;
  bold: boolean;
}

export interface PdfPage {
  header: PdfLine[];
  body: PdfLine[];
  footer: PdfLine[];
}

const pageWidth = 595;
const pageHeight = 842;
const margin = 40;
const fontSize = 8;
const leading = 10;
/** Courier advances 0.6 em per character: 107 characters fit; wrap at 104 to keep a margin. */
const wrapAt = 104;
const bodyTop = 780;
const bodyBottom = 70;
const linesPerPage = Math.floor((bodyTop - bodyBottom) / leading);

/** Latin-1 stays (WinAnsi agrees there); anything else becomes <U+XXXX>; controls too. */
export function pdfSafeText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out +=
      (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)
        ? ch
        : `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  }
  return out;
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    let rest = pdfSafeText(raw);
    let first = true;
    do {
      const prefix = first ? indent : `${indent}  `;
      const room = wrapAt - prefix.length;
      lines.push(prefix + rest.slice(0, room));
      rest = rest.slice(room);
      first = false;
    } while (rest.length > 0);
  }
  return lines;
}

const show = (value: unknown) => (typeof value === 'string' ? value : canonicalJson(value ?? null));
/** "Name (id)" when the packet names the person, else the id alone (and packets made before names). */
const named = (name: string | null | undefined, id: string) => (name ? `${name} (${id})` : id);

/** The diff's arrows and minus signs in Latin-1, so that the standard fonts can show them. */
const latinDiff = (text: string) => text.replaceAll('\u2192', '->').replaceAll('\u2212', '-');

class Layout {
  readonly blocks: PdfLine[][] = [];
  private current: PdfLine[] = [];
  line(text: string, indent = '', bold = false) {
    for (const t of wrap(text, indent)) this.current.push({ text: t, bold });
  }
  /** A block is kept on one page when it fits; a longer one flows over pages. */
  endBlock() {
    if (this.current.length > 0) this.blocks.push(this.current);
    this.current = [];
  }
}

function stagingBlock(layout: Layout, r: PacketStagingRecord, builds: BuildNames) {
  layout.line(`STAGING RECORD ${r.id}`, '', true);
  layout.line(
    `Study ${r.studyCode}   entity ${r.entityKind} ${r.entityId ?? '(new row)'}   state ${r.state}`,
  );
  if (builds.shown)
    layout.line(`Protocol build: ${builds.of(r.buildId)}${r.buildId ? ` (${r.buildId})` : ''}`);
  layout.line(`Proposed by agent ${r.agentId}   created ${r.createdAt}   updated ${r.updatedAt}`);
  layout.line('Current value (proposed state):', '', true);
  const proposed = (r.proposedState ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(proposed).sort()) layout.line(`${key}: ${show(proposed[key])}`, '  ');
  layout.line(`proposed_state SHA-256 ${r.proposedStateSha256}`, '  ');
  layout.line('Changes against the live row as cached (old -> new):', '', true);
  if (r.changes.length === 0) layout.line('(none)', '  ');
  for (const c of r.changes) layout.line(`${c.field}: ${show(c.old)} -> ${show(c.new)}`, '  ');
  layout.line('History (audit trail):', '', true);
  for (const h of r.history) {
    layout.line(
      `#${h.seq} ${h.occurredAt} ${h.eventType} ${h.fromState ?? '-'} -> ${h.toState ?? '-'} by ${h.actorName ?? h.actor}${h.actorName ? ` (${h.actor})` : ''}${h.signatureId ? ` signature ${h.signatureId}` : ''}${builds.suffix(h.buildId)}`,
      '  ',
    );
  }
  layout.line('Signatures:', '', true);
  if (r.signatures.length === 0) layout.line('(none)', '  ');
  for (const s of r.signatures) {
    layout.line(`Signed by: ${s.printedName} (${s.userId})`, '  ', true);
    layout.line(`Meaning: ${s.meaning} (intent ${s.intent})`, '    ');
    layout.line(`Date and time: ${s.signedAtUtc} UTC / ${s.signedAtLocal}`, '    ');
    layout.line(`Re-authenticated at: ${s.reAuthAtUtc} UTC`, '    ');
    if (s.rejection) {
      layout.line(`Reason for rejection: ${s.rejection.reason}`, '    ');
      layout.line(`Explanation: ${s.rejection.explanation}`, '    ');
    }
    if (s.comment) layout.line(`Comment: ${s.comment}`, '    ');
    layout.line(`Content hash: ${s.contentHash} (audit_log seq ${s.chainSeq ?? 'missing'})`, '    ');
    if (builds.shown) {
      const version = s.contentHashVersion ?? 1;
      layout.line(
        `Protocol build: ${builds.of(s.buildId)}; ${version >= 2 ? `bound by the content hash (version ${version})` : 'content hash version 1 (signed before builds: the build is not part of what was signed)'}`,
        '    ',
      );
    }
    layout.line(`Content check: ${s.signingContentNote}`, '    ');
  }
  layout.line('Provenance:', '', true);
  if (r.provenance.length === 0) layout.line('(none)', '  ');
  for (const p of r.provenance) {
    const model =
      p.model.provider || p.model.modelId
        ? `${p.model.provider ?? ''} ${p.model.modelId ?? ''}`.trim()
        : 'no model';
    const version = (p.model.version ?? null) as Record<string, unknown> | null;
    layout.line(
      `${p.occurredAt} ${p.action} by ${named(p.actorName, `${p.actorKind} ${p.actorId}`)}; model ${model}${version?.prompt_version ? ` (prompt ${show(version.prompt_version)})` : ''}${p.model.versionId ? ` version ${p.model.versionId}` : ''}${builds.suffix(p.buildId)}`,
      '  ',
    );
    const citations = Array.isArray(p.citations) ? p.citations : [];
    for (const c of citations) layout.line(`citation: ${show(c)}`, '    ');
  }
  layout.endBlock();
}

function diaryBlock(layout: Layout, d: PacketDiaryRecord, builds: BuildNames) {
  layout.line(`DIARY RECORD ${d.eventUuid}`, '', true);
  layout.line(
    `Patient ${d.patientId}   site ${d.siteId}   version ${d.version}${d.isDeleted ? '   DELETED' : ''}`,
  );
  if (builds.shown) {
    const spanned = [...new Set(d.history.map((v) => v.buildId ?? null))];
    layout.line(
      `Protocol build (latest version): ${builds.of(d.buildId)}${spanned.length > 1 ? `; its versions span builds ${spanned.map((id) => builds.of(id)).join(', ')}` : ''}`,
    );
  }
  layout.line('Current value:', '', true);
  for (const key of Object.keys(d.currentData).sort())
    layout.line(`${key}: ${show(d.currentData[key])}`, '  ');
  layout.line('History (old -> new, who, when, why):', '', true);
  for (const v of d.history) {
    layout.line(
      `audit ${v.auditId} (audit_log seq ${v.chainSeq ?? 'missing'}) ${v.operation} by ${named(v.createdByName, v.createdBy)} as ${v.role} at ${v.serverTimestamp} (device ${v.clientTimestamp})${builds.suffix(v.buildId)}`,
      '  ',
    );
    layout.line(`Reason: ${v.changeReason}`, '    ');
    for (const c of v.changes) layout.line(`${c.field}: ${show(c.old)} -> ${show(c.new)}`, '    ');
  }
  layout.line('Annotations:', '', true);
  if (d.annotations.length === 0) layout.line('(none)', '  ');
  for (const a of d.annotations) {
    layout.line(
      `${a.createdAt} ${a.kind} by ${named(a.investigatorName, a.investigatorId)} on audit ${a.parentAuditId}${a.requiresResponse ? ', response required' : ''}${a.resolved ? ', resolved' : ''} (audit_log seq ${a.events.map((e) => e.seq).join(', ') || 'missing'})${builds.suffix(a.buildId)}`,
      '  ',
    );
    layout.line(a.text, '    ');
    for (const r of a.resolutions ?? []) {
      const reason = r.reasonCode === null ? 'no reason given' : `reason: ${r.reasonLabel} (${r.reasonCode})`;
      layout.line(
        `${r.resolved ? 'Closed' : 'Reopened'} by ${named(r.requestedByName, r.requestedBy)} at ${r.requestedAt}; ${reason}${r.reasonText === null ? '' : `: ${r.reasonText}`}`,
        '    ',
      );
    }
  }
  layout.endBlock();
}

function coverBlock(layout: Layout, content: PacketContent, documentHash: string) {
  const c = content.cover;
  layout.line('INSPECTION PACKET', '', true);
  layout.line('Accurate and complete copy of records, 21 CFR 11.10(b), from the offline cache.');
  layout.line('');
  layout.line(`Scope: ${c.scope.description}`);
  layout.line(
    `Generated by: ${c.generatedBy.printedName} (${c.generatedBy.userId}; ${c.generatedBy.roles.join(', ')})`,
  );
  layout.line(`Generated at: ${c.generatedAt} UTC (local zone ${c.timeZone})`);
  layout.line(`Cache last synced: ${c.cacheSyncedAt ?? 'never'}`);
  layout.line(`Audit chain head: seq ${c.chain.headSeq}, hash ${c.chain.headHash}`);
  layout.line(
    `Chain verified at: ${c.chain.verifiedAt} (from genesis; ${c.chain.entries} entries in chain/audit_log.jsonl)`,
  );
  if (c.chain.broken)
    layout.line(`CHAIN BROKEN at seq ${c.chain.broken.firstBadSeq}: ${c.chain.broken.problem}`, '', true);
  layout.line(
    `Contents: ${c.counts.stagingRecords} staging record(s), ${c.counts.signatures} signature(s), ${c.counts.diaryRecords} diary record(s), ${c.counts.annotations} annotation(s)${c.counts.builds === undefined ? '' : `, ${c.counts.builds} protocol build(s)`}`,
  );
  layout.line(`Document hash (SHA-256 of packet.json): ${documentHash}`);
  layout.line('');
  layout.line(
    'To check this packet without trusting its sender: run `npx countersign verify packet.zip`, and',
  );
  layout.line(
    'compare the chain head above with audit.audit_log on the server (select entry_hash where seq = head).',
  );
  layout.endBlock();
}

/** Everyone the packet names, with their ids and roles (packets since issue 19). */
function peopleBlock(layout: Layout, content: PacketContent) {
  if (!Array.isArray(content.people)) return;
  layout.line('PEOPLE NAMED IN THIS PACKET (name, roles, user id; agents also by agent id)', '', true);
  if (content.people.length === 0) layout.line('(none)', '  ');
  for (const person of content.people) {
    const roles = person.roles.length > 0 ? person.roles.join(', ') : 'no role known';
    const agent = person.agentId ? `; agent id ${person.agentId}` : '';
    layout.line(`${person.name} (${roles}): ${person.userId}${agent}`, '  ');
  }
  layout.endBlock();
}

/** The protocol builds (packets since issue 20): one block each, after the people. */
function buildsBlocks(layout: Layout, content: PacketContent) {
  if (!Array.isArray(content.builds)) return;
  const byId = new Map(content.builds.map((b) => [b.id, b]));
  layout.line(
    'PROTOCOL BUILDS (each build, its status and timeline, and what changed from the one before)',
    '',
    true,
  );
  if (content.builds.length === 0) layout.line('(none)', '  ');
  for (const b of content.builds) {
    const standing = b.current ? ', current' : b.superseded ? ', superseded' : '';
    layout.line(`BUILD ${buildName(b)} of study ${b.studyCode}: ${b.type}, ${b.status}${standing}`, '', true);
    layout.line(`Build id: ${b.id}`, '  ');
    if (b.completedSequence !== null)
      layout.line(`Completed build number ${b.completedSequence} of its study`, '  ');
    if (b.amendmentReference) layout.line(`Amendment: ${b.amendmentReference}`, '  ');
    if (b.description) layout.line(`Description: ${b.description}`, '  ');
    layout.line(`Built by: ${named(b.builtByName, b.builtBy)}`, '  ');
    layout.line(
      `Timeline: created ${b.timeline.createdAt}; started ${b.timeline.startedAt ?? '-'}; ended ${b.timeline.endedAt ?? '-'}${b.timeline.durationSeconds === null ? '' : ` (${b.timeline.durationSeconds} s)`}`,
      '  ',
    );
    layout.line(
      `Forms ${b.counts.forms}, fields ${b.counts.fields}, validation rules ${b.counts.validationRules}; configuration SHA-256 ${b.configurationSha256}`,
      '  ',
    );
    for (const attempt of b.errorLog) {
      layout.line(
        `Failed attempt ${attempt.attempt} at ${attempt.at ?? '-'}${attempt.by ? ` by ${named(attempt.byName, attempt.by)}` : ''}:`,
        '  ',
      );
      for (const e of attempt.errors) layout.line(`${e.path ?? '(build)'}: ${e.message}`, '    ');
    }
    layout.line('Audit trail:', '  ');
    if (b.events.length === 0) layout.line('(none)', '    ');
    for (const e of b.events) {
      const change =
        e.eventType === 'study_build.transition'
          ? `${e.fromStatus ?? 'created'} -> ${e.toStatus ?? '-'}`
          : `configuration changed (${e.toStatus ?? '-'})`;
      layout.line(
        `#${e.seq} ${e.occurredAt} ${change} by ${named(e.actorName, e.actor)}; configuration ${e.configurationSha256 ?? '-'}`,
        '    ',
      );
    }
    const previous = b.previousBuildId ? byId.get(b.previousBuildId) : undefined;
    layout.line(
      previous ? `What changed from ${buildName(previous)}:` : 'What it defines (no earlier build):',
      '  ',
    );
    if (b.changesFromPrevious.length === 0) layout.line('(no change)', '    ');
    for (const c of b.changesFromPrevious) {
      layout.line(
        latinDiff(
          `${c.field === null ? `form ${c.form}` : `${c.form}.${c.field}`}: ${c.change}${c.details.length > 0 ? ` (${c.details.join('; ')})` : ''}`,
        ),
        '    ',
      );
    }
    layout.endBlock();
  }
}

/** The pages of the PDF: content alone decides them. */
export function layoutPdfPages(content: PacketContent, documentHash: string): PdfPage[] {
  const layout = new Layout();
  const builds = new BuildNames(content);
  coverBlock(layout, content, documentHash);
  peopleBlock(layout, content);
  buildsBlocks(layout, content);
  for (const r of content.stagingRecords) stagingBlock(layout, r, builds);
  for (const d of content.diaryRecords) diaryBlock(layout, d, builds);
  const bodies: PdfLine[][] = [];
  let page: PdfLine[] = [];
  for (const [index, block] of layout.blocks.entries()) {
    const startsNewPage = index === 1 && page.length > 0; // the cover stands alone
    if (startsNewPage || (page.length > 0 && page.length + block.length > linesPerPage)) {
      bodies.push(page);
      page = [];
    }
    for (const line of block) {
      if (page.length === linesPerPage) {
        bodies.push(page);
        page = [];
      }
      page.push(line);
    }
    if (page.length > 0 && page.length < linesPerPage) page.push({ text: '', bold: false });
  }
  if (page.length > 0) bodies.push(page);
  const broken = content.cover.chain.broken;
  return bodies.map((body, index) => ({
    header: [
      {
        text: pdfSafeText(`Countersign inspection packet - ${content.cover.scope.description}`).slice(
          0,
          wrapAt,
        ),
        bold: true,
      },
      ...(broken
        ? [
            {
              text: `AUDIT CHAIN BROKEN AT SEQ ${broken.firstBadSeq} - exported with the break flagged`,
              bold: true,
            },
          ]
        : []),
    ],
    body,
    footer: [
      { text: `Page ${index + 1} of ${bodies.length}   page digest ${pageDigest(body)}`, bold: false },
      { text: `Document SHA-256 ${documentHash}`, bold: false },
    ],
  }));
}

/** First 16 hex of SHA-256 over the page's body text, one line per line. */
export function pageDigest(body: PdfLine[]): string {
  return createHash('sha256')
    .update(body.map((line) => line.text).join('\n'), 'latin1')
    .digest('hex')
    .slice(0, 16);
}

function pdfString(text: string): string {
  let out = '(';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\\' || ch === '(' || ch === ')') out += `\\${ch}`;
    else if (code < 0x20 || code > 0x7e) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out})`;
}

function pageStream(page: PdfPage): string {
  const ops: string[] = [];
  const text = (line: PdfLine, y: number, size = fontSize): void => {
    ops.push(`BT /${line.bold ? 'F2' : 'F1'} ${size} Tf ${margin} ${y} Td ${pdfString(line.text)} Tj ET`);
  };
  for (const [i, line] of page.header.entries()) text(line, pageHeight - 30 - i * 11, 9);
  for (const [i, line] of page.body.entries()) text(line, bodyTop - i * leading);
  for (const [i, line] of page.footer.entries()) text(line, 40 - i * 10, 7);
  return `${ops.join('\n')}\n`;
}

export function renderPdf(content: PacketContent, documentHash: string): Buffer {
  const pages = layoutPdfPages(content, documentHash);
  const objects: string[] = [];
  const pageObject = (index: number) => 6 + index * 2;
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pages.map((_, i) => `${pageObject(i)} 0 R`).join(' ')}] /Count ${pages.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>';
  objects[4] = '<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>';
  const pdfDate = `D:${content.cover.generatedAt.replace(/[-:T]/g, '').slice(0, 14)}Z`;
  objects[5] = `<< /Title ${pdfString('Countersign inspection packet')} /Subject ${pdfString(pdfSafeText(content.cover.scope.description))} /Producer (Countersign) /CreationDate (${pdfDate}) /Keywords ${pdfString(`document-sha256:${documentHash}`)} >>`;
  pages.forEach((page, i) => {
    const stream = pageStream(page);
    objects[pageObject(i)] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pageWidth} ${pageHeight}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageObject(i) + 1} 0 R >>`;
    objects[pageObject(i) + 1] =
      `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}endstream`;
  });
  const parts: string[] = ['%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n'];
  let offset = Buffer.byteLength(parts[0] as string, 'latin1');
  const offsets: number[] = [];
  for (let n = 1; n < objects.length; n++) {
    const text = `${n} 0 obj\n${objects[n]}\nendobj\n`;
    offsets[n] = offset;
    parts.push(text);
    offset += Buffer.byteLength(text, 'latin1');
  }
  const xref = [`xref\n0 ${objects.length}\n`, '0000000000 65535 f \n'];
  for (let n = 1; n < objects.length; n++) xref.push(`${String(offsets[n]).padStart(10, '0')} 00000 n \n`);
  const id = documentHash.slice(0, 32);
  parts.push(
    ...xref,
    `trailer\n<< /Size ${objects.length} /Root 1 0 R /Info 5 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${offset}\n%%EOF\n`,
  );
  return Buffer.from(parts.join(''), 'latin1');
}

/**
 * The text lines of each page of a PDF written by renderPdf, in page order (following /Kids), for
 * the verifier. Anything not shaped like our own output is refused: a packet's PDF is only ever one
 * of these.
 */
export function readPdfPageLines(bytes: Buffer): string[][] {
  const text = bytes.toString('latin1');
  // Every object's position, found in one pass (looking each up from the start is quadratic).
  const starts = new Map<number, number>();
  for (const m of text.matchAll(/\n(\d+) 0 obj\n/g)) {
    const n = Number(m[1]);
    if (!starts.has(n)) starts.set(n, m.index + m[0].length);
  }
  const objectAt = (n: number): string => {
    const start = starts.get(n);
    if (start === undefined) throw new Error(`object ${n} is missing`);
    const end = text.indexOf('\nendobj\n', start);
    if (end < 0) throw new Error(`object ${n} is not closed`);
    return text.slice(start, end);
  };
  const kids = /\/Kids \[([^\]]*)\]/.exec(objectAt(2));
  if (!kids) throw new Error('the page list is missing');
  const pageRefs = [...(kids[1] ?? '').matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));
  return pageRefs.map((ref) => {
    const contents = /\/Contents (\d+) 0 R/.exec(objectAt(ref));
    if (!contents) throw new Error(`page object ${ref} has no contents`);
    const stream = objectAt(Number(contents[1]));
    const lines: string[] = [];
    for (const m of stream.matchAll(/\(((?:\\[\\()]|\\[0-7]{3}|[^\\()])*)\) Tj/g)) {
      lines.push(
        (m[1] ?? '').replace(/\\([\\()]|[0-7]{3})/g, (_, e: string) =>
          e.length === 3 ? String.fromCharCode(Number.parseInt(e, 8)) : e,
        ),
      );
    }
    return lines;
  });
}

/** The lines renderPdf draws on a page, in the order it draws them. */
export function pageLines(page: PdfPage): string[] {
  return [...page.header, ...page.body, ...page.footer].map((line) => line.text);
}
