// The Debian tools the tests drive as users do, which test/setup/install-test-tools.sh installs
// before the suite: a test that imports this file runs only in the full suite.

/** zsh, as a user's shell. */
export const ZSH = 'zsh';

/** npm, as a user installs a package with it. */
export const NPM = 'npm';
