import type { Rect } from './geometry.ts';

/** Geometry a text box must have to be read as a licence plate's characters. */
export interface PlateShapeRules {
  /** Width / height of the text box after unclip: one-line plates are wide, two-line ones squarer. */
  readonly minAspect: number;
  readonly maxAspect: number;
  /** Share of the un-expanded box covered by text pixels: a plate's line is dense. */
  readonly minFill: number;
  /** Longest plate side relative to the image's longest side (a plate never fills the photo). */
  readonly maxRelativeWidth: number;
}

export const PLATE_SHAPE: PlateShapeRules = {
  minAspect: 1.3,
  maxAspect: 9,
  minFill: 0.35,
  maxRelativeWidth: 0.6,
};

/** Whether a text detection has a licence plate's shape. Pure geometry: no pixels, no OCR. */
export function looksLikePlate(
  box: Rect,
  fill: number,
  imageWidth: number,
  imageHeight: number,
  rules: PlateShapeRules = PLATE_SHAPE,
): boolean {
  const aspect = box.width / box.height;
  return (
    aspect >= rules.minAspect &&
    aspect <= rules.maxAspect &&
    fill >= rules.minFill &&
    box.width <= rules.maxRelativeWidth * Math.max(imageWidth, imageHeight)
  );
}

/** How plates are looked for again, finer, inside the vehicles a context model found. */
export interface VehicleContextRules {
  /** Vehicles the context model is less sure of are not searched. */
  readonly minVehicleScore: number;
  /** Most vehicles searched per image, the surest first. */
  readonly maxVehicles: number;
  /** Share of the vehicle box added on each side, so a plate at its edge lies whole inside. */
  readonly margin: number;
  /** A plate's centre lies below this share of the vehicle's height (badges and lettering sit higher). */
  readonly lowerFrom: number;
}

// Measured on the dev set: every plate the finer search added had a vehicle score >= 0.7 and its
// centre at 0.6-0.75 of the vehicle's height; brand badges and fleet lettering sat at 0.27-0.48.
export const VEHICLE_CONTEXT: VehicleContextRules = {
  minVehicleScore: 0.5,
  maxVehicles: 8,
  margin: 0.1,
  lowerFrom: 0.5,
};

/** Whether a plate found inside a vehicle's search area sits where plates are mounted on it. */
export function sitsOnVehicle(
  plate: Rect,
  vehicle: Rect,
  rules: VehicleContextRules = VEHICLE_CONTEXT,
): boolean {
  const cx = plate.x + plate.width / 2;
  const cy = plate.y + plate.height / 2;
  return (
    cx >= vehicle.x &&
    cx <= vehicle.x + vehicle.width &&
    cy >= vehicle.y + rules.lowerFrom * vehicle.height &&
    cy <= vehicle.y + vehicle.height
  );
}
