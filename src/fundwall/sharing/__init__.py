"""The sharing hub (信息共享): what members and the hub share across the region, starting
with the shared risk list (`risk_list`)."""
