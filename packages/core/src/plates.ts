import { iou, type Rect } from './geometry.ts';

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

/** A person or a vehicle a context model found, in image space. */
export interface SceneObject {
  readonly kind: 'person' | 'vehicle';
  readonly box: Rect;
  readonly score: number;
}

/** When text read as a plate is taken for lettering a person wears (a shirt, a mask, a lanyard). */
export interface WornTextRules {
  /** A person this sure, whose box holds the text's centre, wears it … */
  readonly minPersonScore: number;
  /** … unless a vehicle this sure holds it too (a pedestrian in front of a car). */
  readonly minVehicleScore: number;
}

// Measured on the dev set: it dropped 20 of the 36 false plates on face photos and no plate on
// plate photos; person scores from 0.2 to 0.4 and vehicle scores from 0.15 to 0.3 gave the same.
export const WORN_TEXT: WornTextRules = {
  minPersonScore: 0.3,
  minVehicleScore: 0.15,
};

/** Whether a plate-shaped text's centre lies on a person and on no vehicle: lettering, not a plate. */
export function isWornText(
  plate: Rect,
  scene: readonly SceneObject[],
  rules: WornTextRules = WORN_TEXT,
): boolean {
  const holds = (kind: SceneObject['kind'], minScore: number) =>
    scene.some((o) => o.kind === kind && o.score >= minScore && containsCentre(o.box, plate));
  return holds('person', rules.minPersonScore) && !holds('vehicle', rules.minVehicleScore);
}

/** When a "face" is a vehicle's front or back: lights and grille read as eyes and mouth. */
export interface VehicleFaceRules {
  /** A vehicle at least this sure … */
  readonly minVehicleScore: number;
  /** … overlapping the face this much, with a plate inside the face, makes it the vehicle. */
  readonly minIou: number;
}

// Measured on the dev set: the 5 car-sized false faces overlapped a vehicle at IoU 0.36-0.93 (vehicle
// scores 0.29-0.72), each with a plate inside; real faces overlapped one at 0.16 at most, none held a plate.
export const VEHICLE_FACE: VehicleFaceRules = {
  minVehicleScore: 0.2,
  minIou: 0.3,
};

/** The least sure person or vehicle the scene checks look at: the context model's threshold for them. */
export const SCENE_MIN_SCORE = Math.min(
  WORN_TEXT.minPersonScore,
  WORN_TEXT.minVehicleScore,
  VEHICLE_FACE.minVehicleScore,
);

/** Whether a face is a vehicle seen from the front or back: a vehicle covers it and a plate lies inside it. */
export function isVehicleFace(
  face: Rect,
  plates: readonly Rect[],
  scene: readonly SceneObject[],
  rules: VehicleFaceRules = VEHICLE_FACE,
): boolean {
  return (
    plates.some((plate) => containsCentre(face, plate)) &&
    scene.some(
      (o) => o.kind === 'vehicle' && o.score >= rules.minVehicleScore && iou(o.box, face) >= rules.minIou,
    )
  );
}

function containsCentre(outer: Rect, inner: Rect): boolean {
  const cx = inner.x + inner.width / 2;
  const cy = inner.y + inner.height / 2;
  return cx >= outer.x && cx <= outer.x + outer.width && cy >= outer.y && cy <= outer.y + outer.height;
}
