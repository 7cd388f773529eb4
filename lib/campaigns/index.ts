export { createCampaign } from "./create";
export { launchCampaign } from "./launch";
export { certifyItem, bulkCertify } from "./certify";
export { delegateItems } from "./delegate";
export { signOffCampaign } from "./sign-off";
export { closeCampaign } from "./close";
export { listCampaigns, campaignFormOptions, getCampaignDashboard } from "./queries";
export { listMyCampaigns, listMyItems } from "./my-items";
export { ATTESTATION } from "./schemas";
