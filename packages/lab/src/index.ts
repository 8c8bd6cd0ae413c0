export { Simulation, formatMinute, type TimelineEntry } from './simulation.js';
export { referenceWalkthrough } from './scenarios/reference-walkthrough.js';
export { runScenario, type Check, type CheckFn, type ScenarioResult } from './scenarios/scenario.js';
export { SCENARIOS, narrate } from './scenarios/registry.js';
export { startTrainingLab, type TrainingLab, type TrainingLabOptions } from './training-lab.js';
export { loadScenarioFile, parseScenario, parseDuration, type ScenarioFile } from './scenario-file/load-scenario.js';
export { runScenarioFile } from './scenario-file/run-scenario-file.js';
