-- A contact's record names every agent who had the caller, in turn, and how often it was
-- transferred (ContactRecord v2). Records stored before read [] and 0.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS agents Array(String) DEFAULT [];
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS transfers UInt16 DEFAULT 0
