export { startExport, type ExportRequest, type ExportResult } from "./export";
export { getExport, listExports, exportListQuery, type ExportRecordRow } from "./records";
export { REPORTS, reportByName } from "./registry";
export { EXPORT_FORMATS, type ExportFormat, type ReportDefinition } from "./types";
