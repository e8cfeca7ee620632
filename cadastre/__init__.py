"""The platform's workflows on parcels: applications with priority, procedures with deadlines,
licences and their registry, auctions, monitoring of obligations (issues 8–11). A domain
package: it imports the store (``layers``) and the kernel, never the app edge; its rules
(procedures, deadlines, fees, holidays) are data, not branches of code."""
