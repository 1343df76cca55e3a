// Debian's headless Chromium for the page tests, driven by playwright-core: a persistent profile in DIR (a
// throwaway folder of the test), no sandbox (root in CI), nothing that reaches the network by itself.
'use strict';
const { chromium } = require('playwright-core');

function launch(profile, width, height) {
    return chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync'],
        viewport: { width, height },
    });
}

module.exports = { launch };
