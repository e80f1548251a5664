// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test-output/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // The architecture rule: the domain imports nothing from transports, storage, app or cli.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/transports/**', '**/storage/**', '**/app/**', '**/cli/**'],
              message: 'core/ must not depend on adapters',
            },
            {
              group: ['fastify', 'better-sqlite3', 'kysely', 'node:dgram', 'pg'],
              message: 'core/ is protocol- and storage-independent',
            },
          ],
        },
      ],
    },
  },
  {
    // Adapters translate; they never reach storage directly.
    files: ['src/transports/**/*.ts', 'src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/app/**', '**/cli/**'], message: 'only app/ composes the parts' }],
        },
      ],
    },
  },
  {
    files: ['src/transports/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage/**', '**/app/**', '**/cli/**'],
              message: 'transports call the core, not storage',
            },
          ],
        },
      ],
    },
  },
);
