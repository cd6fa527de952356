import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { applyTheme, readThemeChoice } from './app/theme';
import './styles.css';

// Before the first render, so that no frame is drawn in another theme than the chosen one.
applyTheme(readThemeChoice());

const container = document.getElementById('root');
if (container === null) throw new Error('The #root element is missing from index.html.');

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
