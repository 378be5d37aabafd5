// ESLint 9 flat config: typescript-eslint's strict type-checked rules everywhere, Prettier owns formatting.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

import ktx from './tools/eslint/layers.js'

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'packages/cli/bundle/**',
      '**/node_modules/**',
      'test/.cluster/**',
      'test/cluster/**',
      '.ci/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            '*.mjs',
            '*.ts',
            'packages/*/scripts/*.mjs',
            'packages/cli/bin/*.js',
            'test/e2e/fixtures/*.mjs',
            'test/integration/fixtures/*.mjs',
            'test/soak/*.mjs',
            'bench/*.mjs',
            'bench/*/*.mjs',
            'tools/eslint/*.js',
            'tools/eslint/*.d.ts',
          ],
          defaultProject: 'tsconfig.base.json',
          // The loose scripts, fixtures, the bench's scenario files and the local lint rule: a few dozen small files.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 40,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // @kubernetes/client-node types its plain JSON models as classes; object literals and spreads
      // are how everyone builds them, so these rules would flag every manifest.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-misused-spread': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Core is a library: it never prints, exits or reaches for child processes.
    files: ['packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Core never exits; throw a KtxError.' },
        { object: 'process', property: 'env', message: 'Core never reads the environment; take an option.' },
        { object: 'process', property: 'on', message: 'Signals belong to the CLI.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:child_process', message: 'Core runs no subprocesses here.' },
            { name: 'child_process', message: 'Core runs no subprocesses here.' },
          ],
          patterns: [{ group: ['@oclif/*'], message: 'Core must not depend on the CLI framework.' }],
        },
      ],
    },
  },
  {
    // The layers of packages/core/ARCHITECTURE.md; tests may reach across them (fakes, fixtures).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    plugins: { ktx },
    rules: { 'ktx/layers': 'error' },
  },
  {
    // exec/ is core's one door to subprocesses (tun2socks, ip, route); everything else goes through it.
    files: ['packages/core/src/exec/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // Tests poke at handles and errors; the non-null assertions are the assertion.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly', import: 'readonly' },
    },
  },
  prettier,
)
