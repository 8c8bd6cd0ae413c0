export { planFleet, DEFAULT_FLEET_MIX, type FleetOptions, type FleetPlan } from './fleet-plan.js';
export { runFleet, type FleetContact, type FleetRunOptions } from './fleet-model.js';
