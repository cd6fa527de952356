import { describe, expect, it } from 'vitest';
import {
  buildChipText,
  buildName,
  buildSpanText,
  supersededCountText,
} from '../../../src/renderer/src/common/buildText';

const b1 = { number: 'B1', version: '1.0' };
const b2 = { number: 'B2', version: '2.0' };

describe('how a protocol build reads on screen [BUILD-UI-HISTORY]', () => {
  it('names a build on a chip and in a sentence', () => {
    expect(buildChipText(b2)).toBe('B2 · 2.0');
    expect(buildName(b2)).toBe('B2 (2.0)');
  });

  it('says when a history spans builds, naming each, and nothing for one build', () => {
    expect(buildSpanText([b1, b2])).toBe('History spans 2 builds: B1 (1.0), B2 (2.0)');
    expect(buildSpanText([b1])).toBeNull();
    expect(buildSpanText([])).toBeNull();
  });

  it('shows a build number that hides characters as text, with the hidden ones made visible', () => {
    expect(buildChipText({ number: 'B\u202e2', version: '2.0' })).toBe('B⟦U+202E⟧2 · 2.0');
  });
});

describe('the signing dialog counts records under a superseded build [BUILD-UI-SIGNING]', () => {
  it('says how many, in words, and nothing when there are none', () => {
    expect(supersededCountText(0, 'record')).toBeNull();
    expect(supersededCountText(1, 'record')).toBe('1 record was written under a superseded build');
    expect(supersededCountText(1200, 'record')).toBe('1,200 records were written under a superseded build');
  });
});
