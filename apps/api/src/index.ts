export { createApp } from './app';
export { IssuanceStarter } from './issuances/issuance-starter';
