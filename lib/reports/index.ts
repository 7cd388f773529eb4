export { startExport, type ExportRequest, type ExportResult } from "./export";
export { getExport, listExports, exportListQuery, reportFormOptions, type ExportRecordRow, type ReportFormOptions } from "./records";
export { REPORTS, reportByName } from "./registry";
export { EXPORT_FORMATS, type ExportFormat, type FilterField, type ReportDefinition } from "./types";
