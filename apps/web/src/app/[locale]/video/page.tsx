import { VideoStudio } from '../../../components/VideoStudio.tsx';

export default function VideoPage() {
  return <VideoStudio />;
}
