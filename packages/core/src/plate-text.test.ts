import { describe, expect, it } from 'vitest';
import { PLACEHOLDER } from './decoders/ctc.ts';
import { PLATE_TEXT, type PlateTextReason, plateTextScore } from './plate-text.ts';

const P = PLACEHOLDER;

describe('plateTextScore', () => {
  it.each<{ text: string; reason: PlateTextReason; note: string }>([
    { text: '7ABC123', reason: 'plate', note: 'US (California)' },
    { text: 'ABC 1234', reason: 'plate', note: 'US (New York)' },
    { text: 'AB-123-CD', reason: 'plate', note: 'France, Italy' },
    { text: 'B MW 1234', reason: 'plate', note: 'Germany' },
    { text: 'M-AB 123', reason: 'plate', note: 'Germany, sticker read as a dash' },
    { text: 'M·AB 123', reason: 'plate', note: 'Germany, sticker read as a dot' },
    { text: 'AB12 CDE', reason: 'plate', note: 'UK' },
    { text: 'ABC1D23', reason: 'plate', note: 'Brazil (Mercosur)' },
    { text: 'B 123 ABC', reason: 'plate', note: 'Romania' },
    { text: 'RK-959AD', reason: 'plate', note: 'Slovenia' },
    { text: 'PJI·5921', reason: 'plate', note: 'Brazil, old format' },
    { text: `${P}A12345`, reason: 'plate', note: 'China: province character' },
    { text: 'CC=2881', reason: 'plate', note: 'a star read as a symbol' },
    { text: '12345', reason: 'plate', note: 'digits only, short' },
    { text: 'cox 1234', reason: 'plate', note: 'lower case shaped like upper case' },
    { text: 'abc 1234', reason: 'lowercase', note: 'lower case of its own shape' },
    { text: '1234', reason: 'plate', note: 'the digit line of a two-line plate' },
    { text: 'EXIT 79B', reason: 'plate', note: 'a road sign that reads like a plate: kept' },
    { text: 'OPEN', reason: 'no-digit', note: 'a shop sign' },
    { text: 'Coca-Cola', reason: 'lowercase', note: 'a brand' },
    { text: 'TAXI', reason: 'no-digit', note: 'a taxi sign' },
    { text: 'PHARMACIES', reason: 'no-digit', note: 'a long upper-case word' },
    { text: 'AB', reason: 'length', note: 'the letter line of a two-line plate' },
    { text: 'SALE 50%', reason: 'symbol', note: 'a price tag' },
    { text: 'www.shop.com', reason: 'no-digit', note: 'an address' },
    { text: 'info@shop24.com', reason: 'symbol', note: 'an e-mail address' },
    { text: '14,670,100', reason: 'symbol', note: 'a number in prose' },
    { text: '0123 456 789 0123', reason: 'length', note: 'a phone number' },
    { text: '0123456789', reason: 'number', note: 'a phone number without spaces' },
    { text: '2014-05-02', reason: 'number', note: "a camera's date stamp" },
    { text: '16:55-14', reason: 'number', note: "a camera's time stamp" },
    { text: '08:27:33', reason: 'unreadable', note: 'a time: two symbols' },
    { text: `${P}${P}${P}`, reason: 'unreadable', note: 'Chinese text' },
    { text: `${P}${P}12`, reason: 'unreadable', note: 'Chinese text and digits' },
    { text: 'Oct-30-2010', reason: 'lowercase', note: 'a date in words' },
    { text: 'e15.60', reason: 'lowercase', note: 'a price' },
    { text: 'SUMMER2024SALE', reason: 'length', note: 'a slogan' },
    { text: '', reason: 'empty', note: 'nothing read' },
    { text: '   ', reason: 'empty', note: 'only spaces read' },
  ])('$text → $reason ($note)', ({ text, reason }) => {
    const r = plateTextScore(text, 0.9);
    expect(r.reason).toBe(reason);
    expect(r.score > 0).toBe(reason === 'plate');
  });

  it.each([
    { text: '7ABC123', confidence: 0.95, score: 0.95 },
    { text: 'CC=2881', confidence: 1, score: 0.9 },
    { text: `${P}A12345`, confidence: 0.8, score: 0.72 },
    { text: '7ABC123', confidence: PLATE_TEXT.minConfidence - 0.01, score: 0 },
  ])('$text at confidence $confidence scores $score', ({ text, confidence, score }) => {
    expect(plateTextScore(text, confidence).score).toBeCloseTo(score, 6);
  });

  it('takes its rules as a parameter', () => {
    expect(plateTextScore('BIMMIAN', 0.9).reason).toBe('plate');
    expect(plateTextScore('BIMMIAN', 0.9).score).toBeCloseTo(0.72);
    expect(
      plateTextScore('BIMMIAN', 0.9, {
        ...PLATE_TEXT,
        lettersOnly: { minLength: 9, maxLength: 9, penalty: 1 },
      }).reason,
    ).toBe('no-digit');
    expect(plateTextScore('e15.60', 0.9, { ...PLATE_TEXT, maxLowercase: 1 }).reason).toBe('plate');
  });
});
