import { describe, expect, it } from 'vitest';
import { isVehicleFace, isWornText, type SceneObject, sitsOnVehicle } from './plates.ts';

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

describe('isWornText', () => {
  const person: SceneObject = { kind: 'person', box: { x: 100, y: 50, width: 100, height: 300 }, score: 0.7 };
  const car: SceneObject = { kind: 'vehicle', box: { x: 150, y: 200, width: 300, height: 150 }, score: 0.4 };
  const onShirt = { x: 120, y: 150, width: 60, height: 20 };
  const onBumper = { x: 170, y: 290, width: 60, height: 15 };
  it.each([
    { name: 'lettering on a shirt', plate: onShirt, scene: [person], want: true },
    { name: 'no one in the photo', plate: onShirt, scene: [], want: false },
    { name: 'a plate behind a pedestrian, on a car', plate: onBumper, scene: [person, car], want: false },
    {
      name: 'a person the model is unsure of',
      plate: onShirt,
      scene: [{ ...person, score: 0.29 }],
      want: false,
    },
    {
      name: 'a vehicle too unsure to vouch for the text',
      plate: onBumper,
      scene: [person, { ...car, score: 0.1 }],
      want: true,
    },
    {
      name: 'text beside the person',
      plate: { x: 220, y: 150, width: 60, height: 20 },
      scene: [person],
      want: false,
    },
    {
      name: 'centre exactly on the person box edge',
      plate: { x: 70, y: 150, width: 60, height: 20 },
      scene: [person],
      want: true,
    },
  ])('$name -> $want', ({ plate, scene, want }) => {
    expect(isWornText(plate, scene)).toBe(want);
  });
});

describe('isVehicleFace', () => {
  const car: SceneObject = { kind: 'vehicle', box: { x: 0, y: 0, width: 400, height: 300 }, score: 0.3 };
  const carFace = { x: 20, y: 10, width: 380, height: 290 };
  const plate = { x: 150, y: 220, width: 100, height: 25 };
  const driver = { x: 250, y: 60, width: 40, height: 50 };
  it.each([
    {
      name: 'a car read as a face, its plate inside',
      face: carFace,
      plates: [plate],
      scene: [car],
      want: true,
    },
    { name: 'no plate inside it', face: carFace, plates: [], scene: [car], want: false },
    { name: 'no vehicle found', face: carFace, plates: [plate], scene: [], want: false },
    {
      name: 'a vehicle too unsure',
      face: carFace,
      plates: [plate],
      scene: [{ ...car, score: 0.19 }],
      want: false,
    },
    { name: 'a driver behind the windscreen', face: driver, plates: [plate], scene: [car], want: false },
    {
      name: 'a person, not a vehicle, around it',
      face: carFace,
      plates: [plate],
      scene: [{ ...car, kind: 'person' as const }],
      want: false,
    },
  ])('$name -> $want', ({ face, plates, scene, want }) => {
    expect(isVehicleFace(face, plates, scene)).toBe(want);
  });
});
