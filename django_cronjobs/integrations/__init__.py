"""Optional hookups to the tools operators already run; each is off until configured."""
