console.log('vgatt: not yet');
