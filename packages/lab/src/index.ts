export { Simulation, formatMinute, type TimelineEntry } from './simulation.js';
export { referenceWalkthrough, type Check, type ScenarioResult } from './scenarios/reference-walkthrough.js';
export { SCENARIOS, narrate } from './scenarios/registry.js';
export { startTrainingLab, type TrainingLab, type TrainingLabOptions } from './training-lab.js';
