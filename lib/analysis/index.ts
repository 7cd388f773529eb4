export { runAnalysis, analyzePrincipal, latestAnalysisRun, type AnalysisStats, type RuleStats } from "./run";
export { RULES, RULE_TITLES } from "./rules";
export { environmentParams, type EnvironmentParams } from "./feed";
