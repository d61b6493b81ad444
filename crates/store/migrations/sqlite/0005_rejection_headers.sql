ALTER TABLE rejections ADD COLUMN headers TEXT;
