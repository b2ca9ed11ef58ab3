// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings under test are ${{ }} templates
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanTemplate } from '../../../src/expr/index.js';

describe('scanTemplate', () => {
  it('splits literal text and expressions, with offsets', () => {
    const text = 'echo ${{ inputs.name }} and ${{env.HOME}}!';
    expect(scanTemplate(text)).toEqual({
      parts: [
        { kind: 'literal', text: 'echo ', offset: 0, length: 5 },
        { kind: 'expression', source: ' inputs.name ', offset: 5, length: 18, sourceOffset: 8 },
        { kind: 'literal', text: ' and ', offset: 23, length: 5 },
        { kind: 'expression', source: 'env.HOME', offset: 28, length: 13, sourceOffset: 31 },
        { kind: 'literal', text: '!', offset: 41, length: 1 },
      ],
      errors: [],
    });
  });

  it('gives one literal part for text without ${{, and none for the empty string', () => {
    expect(scanTemplate('plain {{ text }} $ {')).toEqual({
      parts: [{ kind: 'literal', text: 'plain {{ text }} $ {', offset: 0, length: 20 }],
      errors: [],
    });
    expect(scanTemplate('')).toEqual({ parts: [], errors: [] });
  });

  it('reads adjacent and empty expressions', () => {
    const { parts } = scanTemplate('${{}}${{ a }}');
    expect(parts).toEqual([
      { kind: 'expression', source: '', offset: 0, length: 5, sourceOffset: 3 },
      { kind: 'expression', source: ' a ', offset: 5, length: 8, sourceOffset: 8 },
    ]);
  });

  it('does not end an expression at }} inside a string literal', () => {
    const text = "a ${{ format('{{0}}}}', 'x') }} b";
    const { parts, errors } = scanTemplate(text);
    expect(errors).toEqual([]);
    expect(parts[1]).toEqual({
      kind: 'expression',
      source: " format('{{0}}}}', 'x') ",
      offset: 2,
      length: 29,
      sourceOffset: 5,
    });
    expect(parts[2]).toEqual({ kind: 'literal', text: ' b', offset: 31, length: 2 });
  });

  it("reads '' as an escaped quote inside a string literal", () => {
    const { parts } = scanTemplate("${{ 'it''s }}' }}.");
    expect(parts[0]).toMatchObject({ kind: 'expression', source: " 'it''s }}' " });
    expect(parts[1]).toEqual({ kind: 'literal', text: '.', offset: 17, length: 1 });
  });

  it('ends at the first }} outside a string: }}} leaves one } as text', () => {
    expect(scanTemplate('${{ a }}}').parts).toEqual([
      { kind: 'expression', source: ' a ', offset: 0, length: 8, sourceOffset: 3 },
      { kind: 'literal', text: '}', offset: 8, length: 1 },
    ]);
  });

  it('keeps multi-line sources (YAML block scalars) untrimmed', () => {
    const text = "run: |\n  ${{\n    steps.a.outputs.x == 'y'\n  }}\n";
    const { parts } = scanTemplate(text);
    expect(parts[1]).toEqual({
      kind: 'expression',
      source: "\n    steps.a.outputs.x == 'y'\n  ",
      offset: 9,
      length: 37,
      sourceOffset: 12,
    });
    expect(text.slice(9, 9 + 37)).toBe("${{\n    steps.a.outputs.x == 'y'\n  }}");
  });

  it('counts offsets in UTF-16 code units', () => {
    const text = '😀 é ${{ a }}';
    const { parts } = scanTemplate(text);
    expect(parts[1]).toMatchObject({ offset: 5, sourceOffset: 8 });
    expect(text.slice(5, 8)).toBe('${{');
  });

  it('reports an unclosed ${{ at its offset and keeps the rest as text', () => {
    const text = 'ok ${{ a }} then ${{ b } c';
    expect(scanTemplate(text)).toEqual({
      parts: [
        { kind: 'literal', text: 'ok ', offset: 0, length: 3 },
        { kind: 'expression', source: ' a ', offset: 3, length: 8, sourceOffset: 6 },
        { kind: 'literal', text: ' then ', offset: 11, length: 6 },
        { kind: 'literal', text: '${{ b } c', offset: 17, length: 9 },
      ],
      errors: [
        {
          code: 'expr/unclosed',
          message: '"${{" is not closed by "}}"',
          offset: 17,
          length: 3,
          hint: 'end the expression with "}}"',
        },
      ],
    });
  });

  it('says when an unclosed string literal swallowed the }}', () => {
    const { errors } = scanTemplate("${{ 'abc }}");
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'expr/unclosed',
        offset: 0,
        hint: expect.stringContaining('string literal that is never closed'),
      }),
    ]);
  });

  it('covers the text exactly with its parts, in order', () => {
    const piece = fc.constantFrom('${{', '}}', "'", "''", ' ', 'a', '{', '}', '$', '\n', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const { parts, errors } = scanTemplate(text);
        let at = 0;
        for (const part of parts) {
          expect(part.offset).toBe(at);
          const slice = text.slice(part.offset, part.offset + part.length);
          if (part.kind === 'literal') {
            expect(part.text).toBe(slice);
            expect(part.length).toBeGreaterThan(0);
          } else {
            expect(slice).toBe(`\${{${part.source}}}`);
            expect(part.sourceOffset).toBe(part.offset + 3);
          }
          at += part.length;
        }
        expect(at).toBe(text.length);
        expect(errors.length).toBeLessThanOrEqual(1);
      }),
    );
  });
});
