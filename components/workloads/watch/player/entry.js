// The two entry points the page uses: the <moq-watch> element and its <moq-watch-ui> controls.
import "@moq/watch/element";
import "@moq/watch/ui";
