import fs from 'node:fs';
import path from 'node:path';

/** The hub-service package version, read once (works from src/ under jest and from dist/). */
export const VERSION: string = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
