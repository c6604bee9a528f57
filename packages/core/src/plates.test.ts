import { describe, expect, it } from 'vitest';
import { sitsOnVehicle } from './plates.ts';

describe('sitsOnVehicle', () => {
  const car = { x: 100, y: 100, width: 200, height: 100 };
  it.each([
    { name: 'a plate on the bumper', plate: { x: 170, y: 160, width: 60, height: 15 }, want: true },
    { name: 'a badge on the boot lid', plate: { x: 170, y: 120, width: 60, height: 12 }, want: false },
    { name: 'centre exactly at half height', plate: { x: 170, y: 145, width: 60, height: 10 }, want: true },
    { name: 'centre left of the vehicle', plate: { x: 60, y: 170, width: 60, height: 15 }, want: false },
    { name: 'centre below the vehicle', plate: { x: 170, y: 195, width: 60, height: 20 }, want: false },
  ])('$name -> $want', ({ plate, want }) => {
    expect(sitsOnVehicle(plate, car)).toBe(want);
  });
});
