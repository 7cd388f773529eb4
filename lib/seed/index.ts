// Seeding: the demo company, the synthetic scale inventory, and reset.
export { seedDemo, PLANTED, DEMO_USERS, DEMO_PASSWORD, type SeedDemoResult, type PlantedCase, type PlantedCaseName, type PlantedGrant } from "./demo";
export { seedScale, type SeedScaleResult } from "./scale";
export { resetInventory, inventoryIsEmpty } from "./reset";
