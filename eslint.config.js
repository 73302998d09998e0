import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.peer/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The room rule of DESIGN.md: daemon/tray -> sync -> apkg/usb, never back.
    files: ['src/apkg/**/*.ts', 'src/usb/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/sync/**', '**/daemon/**', '**/tray/**', '**/cli/**'] }],
    },
  },
  {
    files: ['src/apkg/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/usb/**', '**/sync/**', '**/daemon/**', '**/tray/**', '**/cli/**'] }] },
  },
  {
    files: ['src/usb/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/apkg/**', '**/sync/**', '**/daemon/**', '**/tray/**', '**/cli/**'] }] },
  },
  {
    files: ['src/sync/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/daemon/**', '**/tray/**', '**/cli/**'] }] },
  },
);
