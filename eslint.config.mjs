// ESLint for the whole tree (typescript-eslint's recommended rules); Prettier owns the layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' };

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', '.venv', '.venv/**', 'var/', 'coverage/', 'labextension/lib/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_name` says "deliberately unused" (Express's error handler needs its four parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['**/*.js', '**/*.cjs', 'hub-service/bin/*'], languageOptions: { sourceType: 'commonjs', globals: node } },
  {
    files: ['hub-service/static/*.js', 'labextension/style/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', setTimeout: 'readonly' } },
  },
);
