// How a packet's renderings write a value's protocol build beside it: "B2 (2.0)", marked when a later
// build has superseded it; nothing at all in a packet made before builds (format 1). One naming for
// the text PDF of formats 1-2 (pdfWriter.ts) and the casebook PDF (pdf/casebookSections.ts).
import { buildName, type PacketBuild } from './packetBuilds';
import type { PacketContent } from './packetContent';

export class BuildNames {
  private readonly byId: Map<string, PacketBuild> | null;
  constructor(content: PacketContent) {
    this.byId = Array.isArray(content.builds) ? new Map(content.builds.map((b) => [b.id, b])) : null;
  }
  get shown(): boolean {
    return this.byId !== null;
  }
  of(id: string | null | undefined): string {
    if (!id) return 'none recorded';
    const build = this.byId?.get(id);
    if (!build) return id;
    return build.superseded ? `${build.number} (${build.version}; superseded)` : buildName(build);
  }
  /** " [build B2 (2.0)]" after a line (the text PDF), or nothing before builds. */
  suffix(id: string | null | undefined): string {
    return this.shown ? ` [build ${this.of(id)}]` : '';
  }
  /** "build B2 (2.0)" beside a value (the casebook), or nothing before builds. */
  note(id: string | null | undefined): string | undefined {
    return this.shown ? `build ${this.of(id)}` : undefined;
  }
}
