export { handleScim, type ScimOptions } from "./handler";
export { ScimError } from "./errors";
export { SCIM_CONTENT_TYPE } from "./constants";
